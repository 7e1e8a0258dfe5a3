"""Background jobs: a runner thread per service process claims queued jobs and executes each in a child process."""
