"""The document kinds, their shipped JSON Schemas, errors, ids, the bounded reader and the atomic writer."""
