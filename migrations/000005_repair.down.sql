-- 000005 only brings older shapes to the current one; there is nothing to
-- undo, and recreating a shape that was a mistake would help no one.
SELECT 1;
