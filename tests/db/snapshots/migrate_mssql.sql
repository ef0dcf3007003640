BEGIN TRANSACTION;

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

GO

-- Running upgrade  -> a1a1a1a1a1a1

CREATE TABLE ofl_author (
    id INTEGER NOT NULL IDENTITY, 
    name VARCHAR(100) NOT NULL, 
    born DATETIME NULL, 
    token UNIQUEIDENTIFIER NOT NULL, 
    fee NUMERIC(10, 2) NOT NULL, 
    active BIT NOT NULL, 
    genre VARCHAR(6) NOT NULL, 
    bio TEXT NULL, 
    photo IMAGE NULL, 
    created_at DATETIMEOFFSET NOT NULL DEFAULT (CURRENT_TIMESTAMP), 
    updated_at DATETIMEOFFSET NOT NULL DEFAULT (CURRENT_TIMESTAMP), 
    CONSTRAINT pk_ofl_author PRIMARY KEY (id), 
    CONSTRAINT uq_ofl_author_name UNIQUE (name)
);

GO

INSERT INTO alembic_version (version_num) VALUES ('a1a1a1a1a1a1');

GO

-- Running upgrade  -> b1b1b1b1b1b1

CREATE TABLE ofl_book (
    id INTEGER NOT NULL IDENTITY, 
    title VARCHAR(200) NOT NULL, 
    author_id INTEGER NOT NULL, 
    pages INTEGER NULL, 
    CONSTRAINT pk_ofl_book PRIMARY KEY (id), 
    CONSTRAINT fk_ofl_book_author_id_ofl_author FOREIGN KEY(author_id) REFERENCES ofl_author (id) ON DELETE CASCADE
);

GO

CREATE INDEX ix_ofl_book_title ON ofl_book (title);

GO

UPDATE alembic_version SET version_num='b1b1b1b1b1b1' WHERE alembic_version.version_num = 'a1a1a1a1a1a1';

GO

COMMIT;

GO

