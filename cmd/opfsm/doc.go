// Command opfsm runs opfsm's jobs from the shell. Verbs: graph (each operator's state
// machine as Mermaid or DOT). Exit codes: 0 success, 1 a check failed or a property was
// violated, 2 bad input (unknown verb, flag or name).
package main
