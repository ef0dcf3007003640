SELECT ofl_author.id, ofl_author.name, ofl_author.born, ofl_author.token, ofl_author.fee, ofl_author.active, ofl_author.genre, ofl_author.bio, ofl_author.photo, ofl_author.created_at, ofl_author.updated_at 
FROM ofl_author 
WHERE ofl_author.id = 5;

SELECT ofl_book.title, ofl_author.name 
FROM ofl_book JOIN ofl_author ON ofl_book.author_id = ofl_author.id 
WHERE ofl_author.name LIKE 'A%' ORDER BY ofl_book.title
 OFFSET 20 ROWS
 FETCH FIRST 10 ROWS ONLY;

SELECT count(*) AS count_1 
FROM ofl_book 
WHERE ofl_book.pages > 100;

SELECT ofl_author.id 
FROM ofl_author 
WHERE EXISTS (SELECT * 
FROM ofl_book 
WHERE ofl_book.author_id = ofl_author.id);

INSERT INTO ofl_author (name, token, fee, active, genre, created_at, updated_at) VALUES ('Ada', NULL, 1, NULL, NULL, NULL, NULL) RETURNING ofl_author.id INTO :ret_0;

UPDATE ofl_book SET pages=(ofl_book.pages + 1) WHERE ofl_book.id = 1;

DELETE FROM ofl_book WHERE ofl_book.author_id IN (1, 2, 3);
