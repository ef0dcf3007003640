CREATE TABLE alembic_version (
    version_num VARCHAR2(32 CHAR) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
)

/

-- Running upgrade  -> a1a1a1a1a1a1

CREATE TABLE ofl_author (
    id INTEGER NOT NULL, 
    name VARCHAR2(100 CHAR) NOT NULL, 
    born DATE, 
    token CHAR(32) NOT NULL, 
    fee NUMERIC(10, 2) NOT NULL, 
    active BOOLEAN NOT NULL, 
    genre VARCHAR(6 CHAR) NOT NULL, 
    bio CLOB, 
    photo BLOB, 
    created_at DATE DEFAULT (CURRENT_TIMESTAMP) NOT NULL, 
    updated_at DATE DEFAULT (CURRENT_TIMESTAMP) NOT NULL, 
    CONSTRAINT pk_ofl_author PRIMARY KEY (id), 
    CONSTRAINT uq_ofl_author_name UNIQUE (name)
)

/

INSERT INTO alembic_version (version_num) VALUES ('a1a1a1a1a1a1')

/

-- Running upgrade  -> b1b1b1b1b1b1

CREATE TABLE ofl_book (
    id INTEGER NOT NULL, 
    title VARCHAR2(200 CHAR) NOT NULL, 
    author_id INTEGER NOT NULL, 
    pages INTEGER, 
    CONSTRAINT pk_ofl_book PRIMARY KEY (id), 
    CONSTRAINT fk_ofl_book_author_id_ofl_author FOREIGN KEY(author_id) REFERENCES ofl_author (id) ON DELETE CASCADE
)

/

CREATE INDEX ix_ofl_book_title ON ofl_book (title)

/

UPDATE alembic_version SET version_num='b1b1b1b1b1b1' WHERE alembic_version.version_num = 'a1a1a1a1a1a1'

/

