-- tokenbudget no-op: the benchmark's ceiling (one EVALSHA round trip that does nothing).
return 1
