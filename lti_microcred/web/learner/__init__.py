"""The learner's pages: progress and tasks, evidence, their credentials."""
