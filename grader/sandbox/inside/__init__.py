"""Code that runs inside the sandbox's helper process (sent as source text, never
imported there from the grader package, which submissions must not see)."""
