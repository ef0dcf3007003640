BEGIN;

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> a1a1a1a1a1a1

CREATE TYPE ofl_genre AS ENUM ('novel', 'poetry');

CREATE TABLE ofl_author (
    id SERIAL NOT NULL, 
    name VARCHAR(100) NOT NULL, 
    born DATE, 
    token UUID NOT NULL, 
    fee NUMERIC(10, 2) NOT NULL, 
    active BOOLEAN NOT NULL, 
    genre ofl_genre NOT NULL, 
    bio TEXT, 
    photo BYTEA, 
    created_at TIMESTAMP WITH TIME ZONE DEFAULT (CURRENT_TIMESTAMP) NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT (CURRENT_TIMESTAMP) NOT NULL, 
    CONSTRAINT pk_ofl_author PRIMARY KEY (id), 
    CONSTRAINT uq_ofl_author_name UNIQUE (name)
);

INSERT INTO alembic_version (version_num) VALUES ('a1a1a1a1a1a1');

-- Running upgrade  -> b1b1b1b1b1b1

CREATE TABLE ofl_book (
    id SERIAL NOT NULL, 
    title VARCHAR(200) NOT NULL, 
    author_id INTEGER NOT NULL, 
    pages INTEGER, 
    CONSTRAINT pk_ofl_book PRIMARY KEY (id), 
    CONSTRAINT fk_ofl_book_author_id_ofl_author FOREIGN KEY(author_id) REFERENCES ofl_author (id) ON DELETE CASCADE
);

CREATE INDEX ix_ofl_book_title ON ofl_book (title);

UPDATE alembic_version SET version_num='b1b1b1b1b1b1' WHERE alembic_version.version_num = 'a1a1a1a1a1a1';

COMMIT;

