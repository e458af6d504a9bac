package protocol_test

import (
	"encoding/json"
	"fmt"

	ops "github.com/opfsm/opfsm/operators"
	"github.com/opfsm/opfsm/protocol"
)

// A request on the wire, in both encodings: a move's Remove to its origin, as maintainer
// epoch 3 sends it.
func ExampleRequest() {
	req := protocol.Request{Changefeed: "cf", Epoch: 3, Kind: protocol.Remove, Record: ops.Record{
		Changefeed: "cf", ID: "d1", Type: ops.TypeMove, State: ops.MoveRemoveOrigin, Epoch: 3,
		Span: ops.Span{Table: 100}, Origin: "B", Dest: "C", Checkpoint: 42}}

	pb, _ := req.MarshalBinary()
	var back protocol.Request
	if err := back.UnmarshalBinary(pb); err != nil {
		fmt.Println(err)
	}
	fmt.Println(back.Kind, back.Record.Type, back.Record.StateName(), "->", back.Record.Dest)

	js, _ := json.Marshal(req)
	fmt.Println(string(js))

	// A record whose epoch is not the envelope's is refused, whatever the encoding.
	req.Record.Epoch = 2
	pb, _ = req.MarshalBinary()
	fmt.Println(back.UnmarshalBinary(pb) != nil)
	// Output:
	// Remove move RemoveOrigin -> C
	// {"v":1,"changefeed":"cf","epoch":3,"kind":"Remove","record":{"v":1,"type":"move","changefeed":"cf","id":"d1","state":"RemoveOrigin","epoch":3,"span":{"table":100,"start":"","end":""},"origin":"B","dest":"C","checkpoint":42}}
	// true
}

// A status report names states by name in JSON, and a decoder refuses a state it does not
// know with a typed error.
func ExampleStatusReport() {
	var rep protocol.StatusReport
	err := json.Unmarshal([]byte(`{"v":1,"changefeed":"cf","node":"B","epoch":3,"statuses":[{"id":"d1","state":"Working","checkpoint":42}]}`), &rep)
	fmt.Println(err, rep.Statuses[0].State, rep.Statuses[0].Checkpoint)
	err = rep.UnmarshalJSON([]byte(`{"v":1,"changefeed":"cf","node":"B","epoch":3,"statuses":[{"id":"d1","state":"Dancing"}]}`))
	fmt.Println(err)
	// Output:
	// <nil> Working 42
	// decoding status report: field "state": component state "Dancing": unknown component state
}
