"""Professional-learning records: credit per completion, the learner's transcript (page, CSV,
PDF with a public verification page) and the office's credit export."""
