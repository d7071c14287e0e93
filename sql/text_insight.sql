-- Text insight walkthrough: embed customer reviews, find the reviews most
-- similar to a complaint (ORDER BY a similarity, or vector_search), and
-- cluster the reviews into themes.
--
-- Needs the embedding model: run scripts/fetch-embed-model once (the README's
-- run command does), then: psql -h 127.0.0.1 -p 5433 -d augur -f sql/text_insight.sql
--
-- The 36 reviews below were written for this walkthrough (the Amazon Fine
-- Foods reviews used in the tests may not be redistributed). To use your own,
-- put a reviews.csv (columns id, review) in the data directory and skip step 1.
-- The script can be run again: tables are rebuilt with CREATE OR REPLACE.

-- ---------------------------------------------------------------------------
-- 1. Some product reviews.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE TABLE reviews AS
SELECT * FROM (VALUES
  (1,  'The package arrived two weeks late and the box was crushed.'),
  (2,  'Delivery took forever, I had to call support three times.'),
  (3,  'Shipping was slow and the tracking number never worked.'),
  (4,  'My order came a week after the promised date.'),
  (5,  'The courier left the parcel in the rain and it arrived late.'),
  (6,  'Still waiting for my order, delivery keeps getting postponed.'),
  (7,  'Delicious coffee, rich and smooth with no bitterness.'),
  (8,  'This green tea tastes fresh and fragrant, I drink it every morning.'),
  (9,  'The dark chocolate is wonderful, not too sweet.'),
  (10, 'Best granola I have ever had, crunchy and full of flavour.'),
  (11, 'These cookies taste homemade, my kids love them.'),
  (12, 'Great tasting olive oil, perfect on salads.'),
  (13, 'The crackers were stale and tasted like cardboard.'),
  (14, 'Expired before it even arrived, the nuts were rancid.'),
  (15, 'The bread mix smelled off and had clumps of mould.'),
  (16, 'Chips were soggy and clearly past their best-before date.'),
  (17, 'The coffee beans tasted old and flat, not fresh at all.'),
  (18, 'The jar was broken and sauce leaked all over the box.'),
  (19, 'Packaging was damaged, half the bags were torn open.'),
  (20, 'The bottle cap was cracked and the syrup had spilled.'),
  (21, 'Cans arrived dented and one was leaking.'),
  (22, 'Way too expensive for such a small bag.'),
  (23, 'Good value, much cheaper than in my local supermarket.'),
  (24, 'The price went up again, not worth the money anymore.'),
  (25, 'Affordable and the bulk pack lasts a month, great deal.'),
  (26, 'My dog loves these treats and they are healthy.'),
  (27, 'The cat refuses to eat this food, she just sniffs and walks away.'),
  (28, 'Our puppy had an upset stomach after switching to this kibble.'),
  (29, 'Great chew toys and snacks for my two dogs.'),
  (30, 'Customer service never answered my emails about a refund.'),
  (31, 'I asked for a replacement and they sent the wrong item again.'),
  (32, 'The seller was rude and refused to refund the damaged order.'),
  (33, 'Support resolved my problem quickly, very friendly staff.'),
  (34, 'This gluten free pasta is the only one my celiac son can eat.'),
  (35, 'Too salty for my taste, I could not finish the soup.'),
  (36, 'The spicy sauce is far too hot, burned my mouth.')
) AS t(id, review);

-- ---------------------------------------------------------------------------
-- 2. Embed every review once and keep the vectors (384 float4 each, stored
--    in Parquet like any column).
-- ---------------------------------------------------------------------------
CREATE OR REPLACE TABLE review_vectors AS
SELECT id, embed(review) AS embedding FROM reviews;

SELECT count(*) AS reviews, arrow_typeof(embedding) AS vector_type
FROM review_vectors GROUP BY 2;

-- ---------------------------------------------------------------------------
-- 3. Semantic search: the reviews closest in meaning to a complaint, though
--    they share few words with it.
-- ---------------------------------------------------------------------------
SELECT r.id,
       round(cosine_similarity(v.embedding, embed('my order was not delivered on time')), 3) AS similarity,
       r.review
FROM review_vectors v JOIN reviews r USING (id)
ORDER BY similarity DESC
LIMIT 5;

SELECT r.id,
       round(cosine_similarity(v.embedding, embed('the food had gone bad')), 3) AS similarity,
       r.review
FROM review_vectors v JOIN reviews r USING (id)
ORDER BY similarity DESC
LIMIT 5;

-- The same search with vector_search (BigQuery's VECTOR_SEARCH): the table's
-- columns plus a distance (COSINE: 1 - similarity), nearest first, without
-- sorting the whole table.
SELECT s.id, round(s.distance, 3) AS cosine_distance, r.review
FROM vector_search('review_vectors', 'embedding', embed('my order was not delivered on time'),
                   top_k => 5, distance_type => 'COSINE') s
JOIN reviews r USING (id)
ORDER BY s.distance;

-- Reviews like review 18 (a broken jar): the query vector can be a stored
-- one; the review itself comes first at distance 0.
SELECT s.id, round(s.distance, 3) AS cosine_distance, r.review
FROM vector_search('review_vectors', 'embedding',
                   (SELECT embedding FROM review_vectors WHERE id = 18),
                   top_k => 4, distance_type => 'COSINE') s
JOIN reviews r USING (id)
ORDER BY s.distance;

-- ---------------------------------------------------------------------------
-- 4. Themes: k-means on the embeddings (a vector column is used as one
--    feature per element). Each theme with its size and a few of its reviews.
-- ---------------------------------------------------------------------------
CREATE MODEL review_themes
OPTIONS (model_type = 'kmeans', num_clusters = 6, standardize_features = false)
AS SELECT embedding FROM review_vectors;

CREATE OR REPLACE TABLE review_theme AS
SELECT id, predict('review_themes', embedding) AS theme FROM review_vectors;

SELECT t.theme,
       count(*) OVER (PARTITION BY t.theme) AS reviews_in_theme,
       r.review
FROM review_theme t JOIN reviews r USING (id)
ORDER BY t.theme, r.id;
