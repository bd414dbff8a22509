"""The pure domain: value objects, lifecycle, 四有四定 rules and roles. attrs + stdlib only
(``transitions`` inside :mod:`campaignflow.domain.lifecycle`); no SQLAlchemy, no I/O, no clock reads."""
