"""The park's score on the Chengdu smart-park rubric (2021): rubric data, pure rules, inputs, measures, service, reports."""
