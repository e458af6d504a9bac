// Command opfsm runs opfsm's jobs from the shell. Verbs: graph (each operator's state
// machine as Mermaid or DOT) and check (TLC on the models of spec/configs.tsv). Exit codes:
// 0 success, 1 a check failed or a property was violated (including a seeded bug caught as
// expected), 2 bad input (unknown verb, flag or name), 3 a seeded bug that was not caught.
package main
