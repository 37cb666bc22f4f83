package misconfig

import (
	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	engine "github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

// result carries findings in an analyzer.Result.
func result(fs []engine.Finding) *analyzer.Result {
	if len(fs) == 0 {
		return nil
	}
	return &analyzer.Result{Misconfigs: fs}
}
