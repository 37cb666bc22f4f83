package osv

import (
	"encoding/json"
	"testing"
	"time"
)

func TestUnmarshalTimes(t *testing.T) {
	var v Vulnerability
	in := `{"id":"PYSEC-1","modified":"1-01-01T00:00:00Z","published":"2024-03-01T10:00:00Z","withdrawn":"garbage","affected":[{"package":{"ecosystem":"PyPI","name":"x"}}]}`
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	if !v.Modified.Equal(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Modified = %v", v.Modified)
	}
	if v.Published == nil || v.Published.Year() != 2024 {
		t.Errorf("Published = %v", v.Published)
	}
	if v.Withdrawn == nil {
		t.Error("an unreadable withdrawn date must still withdraw")
	}
	if v.ID != "PYSEC-1" || len(v.Affected) != 1 {
		t.Errorf("record = %+v", v)
	}
	var w Vulnerability
	json.Unmarshal([]byte(`{"id":"X","modified":"2023-01-01T00:00:00Z"}`), &w)
	if w.Withdrawn != nil || w.Published != nil {
		t.Errorf("absent dates set: %+v", w)
	}
}

func TestNormalizeName(t *testing.T) {
	for _, tt := range []struct{ eco, in, want string }{
		{"PyPI", "Django_REST.framework", "django-rest-framework"},
		{"npm", "@Babel/Core", "@Babel/Core"},
		{"Maven", "org.Apache:Log4j", "org.apache:log4j"},
		{"Debian:12", "glibc", "glibc"},
	} {
		if got := NormalizeName(tt.eco, tt.in); got != tt.want {
			t.Errorf("NormalizeName(%s, %s) = %s, want %s", tt.eco, tt.in, got, tt.want)
		}
	}
}
