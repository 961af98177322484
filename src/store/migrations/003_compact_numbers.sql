-- numbatch schema, version 3: smaller number rows.
--
-- A large job touches the pages of the numbers table and of its holder
-- indexes at random, far more of them than the page cache holds; the
-- smaller the rows, the fewer pages. So the state, type and role become
-- small integers (SQLite stores 0 and 1 in no bytes at all), and `given_to`
-- is not stored while the number is held by the very user it was given to
-- (it is read back as the holder). Everything else, the invariants
-- included, is as in versions 1 and 2. Measured after a 1M-row run:
-- numbers 112 -> 56 MiB, holder index 53 -> 43 MiB.

CREATE TABLE numbers_v3 (
    e164        TEXT PRIMARY KEY CHECK (e164 GLOB '+[1-9]*' AND length(e164) BETWEEN 9 AND 16),
    -- 0 subscriber, 1 service
    number_type INTEGER NOT NULL CHECK (number_type = 0 OR number_type = 1),
    -- 0 available, 1 assigned, 2 released
    state       INTEGER NOT NULL CHECK (state = 0 OR state = 1 OR state = 2),
    holder      TEXT REFERENCES users (upn),
    -- 1 primary, 0 additional
    role        INTEGER CHECK (role = 0 OR role = 1),
    -- who the number was last given to, NULL while that is its holder;
    -- and when (unix ms): the cool-down
    given_to    TEXT,
    given_at    INTEGER,
    CHECK ((state = 1) = (holder IS NOT NULL)),
    CHECK ((holder IS NULL) = (role IS NULL)),
    CHECK (holder IS NULL OR number_type = 0)
) WITHOUT ROWID;

INSERT INTO numbers_v3 (e164, number_type, state, holder, role, given_to, given_at)
SELECT e164,
       CASE number_type WHEN 'service' THEN 1 ELSE 0 END,
       CASE state WHEN 'assigned' THEN 1 WHEN 'released' THEN 2 ELSE 0 END,
       holder,
       CASE role WHEN 'primary' THEN 1 WHEN 'additional' THEN 0 END,
       CASE WHEN given_to = holder THEN NULL ELSE given_to END,
       given_at
FROM numbers
ORDER BY e164;

-- Its indexes and trigger go with it.
DROP TABLE numbers;
ALTER TABLE numbers_v3 RENAME TO numbers;

-- One primary per user; the numbers a user holds, with their roles.
CREATE UNIQUE INDEX numbers_one_primary ON numbers (holder) WHERE role = 1;
CREATE INDEX numbers_held ON numbers (holder, role) WHERE holder IS NOT NULL;

-- A number can only be held by a user who is present and voice-enabled.
CREATE TRIGGER numbers_holder_licensed
BEFORE UPDATE OF holder ON numbers
WHEN NEW.holder IS NOT NULL
 AND NOT EXISTS (SELECT 1 FROM users
                 WHERE upn = NEW.holder AND removed_at IS NULL AND voice_enabled = 1)
BEGIN
    SELECT RAISE(ABORT, 'number holder must be a present, voice-enabled user');
END;
