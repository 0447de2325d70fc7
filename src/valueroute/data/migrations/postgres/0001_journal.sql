-- valueroute journal on PostgreSQL, schema version 1.
-- Applied by valueroute.pgstore on open, in one transaction, with a row in
-- valueroute_schema recording it. Never edit a released migration: add the
-- next numbered file instead.

-- One row per journaled command. position is the command's place in the log
-- (1, 2, ...); checksum chains from the previous record's (see Record in
-- valueroute.journal); term is the leadership term of the process that
-- wrote it.
CREATE TABLE valueroute_records (
    position bigint PRIMARY KEY,
    time double precision NOT NULL,
    command text NOT NULL,
    arguments text NOT NULL,
    checksum bigint NOT NULL,
    term bigint NOT NULL
);

-- Engine snapshots: the JSON text taken after record position.
CREATE TABLE valueroute_snapshots (
    position bigint PRIMARY KEY,
    data text NOT NULL,
    checksum bigint NOT NULL,
    term bigint NOT NULL
);
-- Stored without compression: a snapshot is written while the leader holds
-- the lease row, and compressing hundreds of megabytes doubles that time.
ALTER TABLE valueroute_snapshots ALTER COLUMN data SET STORAGE EXTERNAL;

-- Records recovery moved aside (damaged, or after a damaged one): kept, never replayed.
CREATE TABLE valueroute_quarantine (
    position bigint NOT NULL,
    time double precision,
    command text,
    arguments text,
    checksum bigint,
    term bigint,
    reason text NOT NULL,
    moved_at timestamptz NOT NULL DEFAULT now()
);

-- The leadership lease: exactly one row. term grows by one at every
-- takeover; only the process holding the current term may write, and every
-- write checks it in the same transaction. expires_at is the database's
-- clock, so processes on machines whose clocks disagree agree on it.
CREATE TABLE valueroute_lease (
    id integer PRIMARY KEY CHECK (id = 1),
    term bigint NOT NULL,
    holder text,
    backend_pid integer,
    expires_at timestamptz NOT NULL
);
INSERT INTO valueroute_lease (id, term, holder, backend_pid, expires_at)
VALUES (1, 0, NULL, NULL, '-infinity');
