-- Recovery points for Idempotency-Key: a request that commits a change and then waits on the processor records, in
-- the same transaction as that change, how to answer for it. If the host dies before the answer is stored, a retry
-- with the same key gets that answer (the object as it now stands) instead of making the change a second time.
ALTER TABLE idempotency_keys ADD COLUMN recovery TEXT;
