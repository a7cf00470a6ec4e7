"""Pages for instructors, assessors and admins of a course: definitions, review, learners, gradebook."""
