DROP TABLE import_template;
DROP TABLE import_issue;
DROP TABLE source_record;
DROP TABLE import_batch;
