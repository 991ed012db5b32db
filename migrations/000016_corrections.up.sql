-- A comparison keeps the fields that survey forms, manual changes and
-- extract events corrected after its extracts were imported; it finds
-- them among the comparisons' own many events through this index.
CREATE INDEX person_event_other ON person_event (id_number, field, recorded_at) WHERE source_kind <> 'compare';

-- A person's page lists their survey forms, superseded ones included: the
-- partial survey_form_live index cannot serve that join.
CREATE INDEX survey_form_member ON survey_form (member_id, id);
