module github.com/opfsm/opfsm

go 1.26

require (
	github.com/qmuntal/stateless v1.7.2
	github.com/stretchr/testify v1.12.1
	go.uber.org/zap v1.28.0
	google.golang.org/protobuf v1.36.12
)

require (
	go.uber.org/multierr v1.10.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)

tool google.golang.org/protobuf/cmd/protoc-gen-go
