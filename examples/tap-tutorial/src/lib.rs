//! tap-shop, the tutorial tap of the book (`docs/book`): the binary is `src/main.rs`, exactly
//! what `burler new tap-shop --template rest` generates. This library half holds no code: it
//! compiles every Rust code block of the book as a doc test (`cargo test --doc -p tap-tutorial`),
//! so the book cannot show an example that does not build or whose assertions fail.

#[cfg(doctest)]
mod book {
    macro_rules! pages {
        ($($name:ident = $path:literal;)*) => {
            $(
                #[doc = include_str!(concat!("../../../docs/book/src/", $path))]
                mod $name {}
            )*
        };
    }

    pages! {
        introduction = "introduction.md";
        tutorial_config = "tutorial/01-config.md";
        tutorial_first_stream = "tutorial/02-first-stream.md";
        tutorial_pagination = "tutorial/03-pagination.md";
        tutorial_incremental = "tutorial/04-incremental.md";
        tutorial_sub_stream = "tutorial/05-sub-stream.md";
        tutorial_tests = "tutorial/06-tests.md";
        tutorial_meltano = "tutorial/07-meltano.md";
        guide_builder = "guide/builder.md";
        guide_http = "guide/http.md";
        guide_sql = "guide/sql.md";
        guide_manifests = "guide/manifests.md";
        guide_schema = "guide/schema.md";
        guide_stream_maps = "guide/stream-maps.md";
        guide_batch = "guide/batch.md";
        guide_testkit = "guide/testkit.md";
        guide_check = "guide/check.md";
        guide_new = "guide/new.md";
        guide_scale_out = "guide/scale-out.md";
        migration = "migration.md";
        protocol = "protocol.md";
    }
}
