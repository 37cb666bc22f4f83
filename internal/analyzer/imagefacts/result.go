package imagefacts

import (
	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

// result carries findings in an analyzer.Result.
func result(fs []misconfig.Finding) *analyzer.Result {
	if len(fs) == 0 {
		return nil
	}
	return &analyzer.Result{Misconfigs: fs}
}
