DROP TABLE IF EXISTS indicator_day;
DROP TABLE IF EXISTS indicator_breakdown;
DROP TABLE IF EXISTS indicator_snapshot;
