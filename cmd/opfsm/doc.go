// Command opfsm runs opfsm's jobs from the shell. Verbs: sim (a seeded fault campaign),
// run (scenario files), graph (each operator's state machine as Mermaid or DOT), check
// (TLC on the models of spec/configs.tsv), conform and explore (the simulator against the
// spec). check, conform and explore use the spec built into the binary, unpacked into a
// temporary folder, unless --manifest or --spec names another, so they work from any
// directory; TLC's jar is cached in the repository's .cache/tlc inside it, else in the user
// cache directory (opfsm/tlc).
//
// Exit codes: 0 success, 1 a check failed or a property was violated (including a seeded
// bug caught as expected), 2 bad input (unknown verb, flag or name), 3 a seeded bug that
// was not caught, 130 and 143 stopped by SIGINT and SIGTERM. On either signal opfsm kills
// TLC's process group and removes its temporary folders before it exits; a second signal
// kills opfsm at once.
package main
