// Package protocol is the wire between a maintainer and the dispatcher managers of its
// changefeed: what travels, in which encodings, and what a receiver may refuse.
//
// Four messages cross the network:
//   - Request: maintainer to node. The envelope carries the sender's maintainer epoch
//     (the node's fence admits a request only under the epoch it obeys), what to do (Create,
//     Remove, Merge or Bootstrap) and, except for a bootstrap, the whole record of the
//     operator that asks, which the node journals.
//   - StatusReport: node to maintainer. Dispatcher statuses (state and checkpoint), tagged
//     with the owner epoch the node obeyed when it sent them, so a newer maintainer drops
//     what was meant for an older one.
//   - BootstrapAnswer: node to a new maintainer. Every dispatcher the node hosts, its remove
//     journal and its merge journal.
//   - Snapshot: not sent by anyone, but what a maintainer gathers before it recovers: its
//     changefeed, epoch, start checkpoint and live tables, and every live node's answer.
//
// Every message has two encodings: strict JSON (MarshalJSON, UnmarshalJSON; enums by name,
// a version field "v", unknown and missing fields refused) and protobuf (MarshalBinary,
// UnmarshalBinary; the schema is protocol.proto, generated Go types in package protocolpb).
// Decoders never panic; they answer bad input with a *fsm.DecodeError naming the message
// and field, wrapping a sentinel of package fsm, operators or this package.
//
// docs/protocol.md says who sends what when, what each side journals, and what the
// transport must guarantee.
package protocol
