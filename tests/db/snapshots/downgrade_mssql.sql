BEGIN TRANSACTION;

-- Running downgrade b1b1b1b1b1b1 -> 

DROP INDEX ix_ofl_book_title ON ofl_book;

GO

DROP TABLE ofl_book;

GO

UPDATE alembic_version SET version_num='a1a1a1a1a1a1' WHERE alembic_version.version_num = 'b1b1b1b1b1b1';

GO

-- Running downgrade a1a1a1a1a1a1 -> 

DROP TABLE ofl_author;

GO

DELETE FROM alembic_version WHERE alembic_version.version_num = 'a1a1a1a1a1a1';

GO

COMMIT;

GO

