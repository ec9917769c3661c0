-- The database pipelinewise-tap-postgres reads in .ci/interop/check.sh: two tables, recreated
-- every run. ANALYZE gives discovery a real row-count (a never-analyzed table reports -1).
DROP SCHEMA IF EXISTS shop CASCADE;
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id integer PRIMARY KEY, name text NOT NULL, country text);
CREATE TABLE shop.orders (
    id integer PRIMARY KEY,
    customer_id integer REFERENCES shop.customers (id),
    total numeric(10, 2) NOT NULL,
    updated_at timestamptz NOT NULL
);
INSERT INTO shop.customers
SELECT i, 'Customer ' || i, (ARRAY['PT', 'BR', 'CA'])[i % 3 + 1] FROM generate_series(1, 12) i;
INSERT INTO shop.orders
SELECT i, i % 12 + 1, i * 3.75, timestamptz '2024-03-01 00:00:00+00' + i * interval '37 minutes'
FROM generate_series(1, 60) i;
ANALYZE shop.customers, shop.orders;
