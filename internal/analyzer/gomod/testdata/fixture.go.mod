module example.com/bulkhead/fixture

go 1.22

require (
	example.com/local v0.0.0-00010101000000-000000000000
	github.com/davecgh/go-spew v1.1.2-0.20180830191138-d8f796af33cc
	github.com/google/uuid v1.3.0
	github.com/pkg/errors v0.9.1
	github.com/satori/go.uuid v1.2.0
	golang.org/x/text v0.3.7
)

replace (
	example.com/local => ./local
	github.com/pkg/errors => github.com/pkg/errors v0.8.1
	github.com/satori/go.uuid => github.com/gofrs/uuid v4.0.0+incompatible
)
