-- numbatch schema, version 2: fewer index writes per applied row.
--
-- Every secondary index is one more page, somewhere random in the file, that
-- each applied row dirties and each commit writes (measured: ten page writes
-- a row with version 1). So:

-- The holder index covers the holder lookup (a WITHOUT ROWID index carries
-- the primary key, e164): the rules get a user's numbers and roles without
-- reading the numbers themselves. Unheld numbers are not in it at all.
DROP INDEX numbers_by_holder;
CREATE INDEX numbers_held ON numbers (holder, role) WHERE holder IS NOT NULL;

-- The history of a number or a user (`show`) was three indexes on the audit
-- table, each written at a random place for every change. It is now one
-- table of (subject, audit id), filled in subject order when a job is done
-- (`directory::index_history`); `show` reads the entries of jobs not done
-- yet from the audit table itself, by job.
DROP INDEX audit_by_number;
DROP INDEX audit_by_upn;
DROP INDEX audit_by_prev_upn;
CREATE TABLE history (
    subject  TEXT NOT NULL,
    audit_id INTEGER NOT NULL,
    PRIMARY KEY (subject, audit_id)
) WITHOUT ROWID;
INSERT OR IGNORE INTO history (subject, audit_id)
SELECT e.subject, e.audit_id FROM (
    SELECT number AS subject, id AS audit_id, job_id FROM audit WHERE number IS NOT NULL
    UNION ALL SELECT upn, id, job_id FROM audit WHERE upn IS NOT NULL
    UNION ALL SELECT prev_upn, id, job_id FROM audit WHERE prev_upn IS NOT NULL
) AS e JOIN jobs ON jobs.id = e.job_id AND jobs.state = 'done'
ORDER BY 1, 2;
