"""LTI 1.3 protocol, browser side. Knows pylti1p3; knows nothing of competencies."""
