package policy

import (
	"fmt"
	"path"
	"reflect"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/ext"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

// CEL input: the variables a cel rule sees are the top-level fields of
// bulkhead's JSON report (internal/report/json.go), typed, with the JSON
// field names, after exceptions and VEX removed what they suppress:
//
//	artifact           ref, type, name, repoTags, created, layers[], labels (map), user, ...
//	os                 id, versionID, codename, name ("" when unknown)
//	packages           list: name, version, type, purl, licenses[], source.name, locations[]
//	vulnerabilities    list: id, aliases[], severity, cvss[{version, vector, score}],
//	                   fixedVersion, status, published, package{name, version, type, ecosystem, purl},
//	                   location{path, layerIndex, createdBy}
//	secrets            list: ruleID, title, severity, path, line, fingerprint, layerIndex
//	malware            list: signature, severity, path, layerIndex
//	misconfigurations  list: id, type, severity, title, message, path, line
//
// The values are the scan's own Go structures exposed through cel-go's
// native types (no copy, no JSON round trip), so every field exists (zero
// when the report leaves it out) and a misspelt field is an error when the
// policy loads. A rule's expression is true when the rule is violated:
//
//	vulnerabilities.exists(v, v.package.name == "openssl" && v.severity == "CRITICAL")
//	!("org.opencontainers.image.source" in artifact.labels)
var celVariables = []string{"artifact", "os", "packages", "vulnerabilities", "secrets", "malware", "misconfigurations"}

// Bounds on hostile expressions: the parser's size and nesting, and the
// evaluation cost (a cel expression cannot loop forever, but nested
// comprehensions over big lists can take long).
const (
	celMaxExprSize = 4096
	celCostLimit   = 5_000_000 // about a second of evaluation
)

type celEnvironment struct {
	env *cel.Env
}

type celProgram = cel.Program

var (
	celOnce   sync.Once
	celShared *celEnvironment
	celErr    error
)

func celEnv() (*celEnvironment, error) {
	celOnce.Do(func() {
		list := func(t reflect.Type) *cel.Type { return cel.ListType(cel.ObjectType(celTypeName(t))) }
		env, err := cel.NewEnv(
			cel.ParserExpressionSizeLimit(celMaxExprSize),
			cel.ParserRecursionLimit(64),
			ext.NativeTypes(ext.ParseStructTag("json"),
				reflect.TypeFor[inventory.Artifact](), reflect.TypeFor[inventory.OS](), reflect.TypeFor[inventory.Package](),
				reflect.TypeFor[inventory.Vulnerability](), reflect.TypeFor[inventory.Secret](), reflect.TypeFor[inventory.Malware](),
				reflect.TypeFor[misconfig.Finding]()),
			cel.Variable("artifact", cel.ObjectType(celTypeName(reflect.TypeFor[inventory.Artifact]()))),
			cel.Variable("os", cel.ObjectType(celTypeName(reflect.TypeFor[inventory.OS]()))),
			cel.Variable("packages", list(reflect.TypeFor[inventory.Package]())),
			cel.Variable("vulnerabilities", list(reflect.TypeFor[inventory.Vulnerability]())),
			cel.Variable("secrets", list(reflect.TypeFor[inventory.Secret]())),
			cel.Variable("malware", list(reflect.TypeFor[inventory.Malware]())),
			cel.Variable("misconfigurations", list(reflect.TypeFor[misconfig.Finding]())),
		)
		if err != nil {
			celErr = fmt.Errorf("cel environment: %w", err)
			return
		}
		celShared = &celEnvironment{env: env}
	})
	return celShared, celErr
}

// celTypeName is the name cel-go's native types give a Go type.
func celTypeName(t reflect.Type) string {
	return path.Base(t.PkgPath()) + "." + t.Name()
}

// celError is a compile error with its place in the expression (1-based
// line and column).
type celError struct {
	line, column int
	msg          string
}

func (e *celError) Error() string { return e.msg }

// compile type-checks expr and returns a program that must yield a bool.
func (e *celEnvironment) compile(expr string) (celProgram, error) {
	ast, iss := e.env.Compile(expr)
	if iss.Err() != nil {
		errs := iss.Errors()
		ce := &celError{msg: errs[0].Message}
		if loc := errs[0].Location; loc != nil {
			ce.line, ce.column = loc.Line(), loc.Column()+1
		}
		return nil, ce
	}
	if t := ast.OutputType(); !t.IsExactType(cel.BoolType) && !t.IsExactType(cel.DynType) {
		return nil, fmt.Errorf("the expression is a %s; it must be true or false (true: the rule is violated)", t)
	}
	prg, err := e.env.Program(ast, cel.CostLimit(celCostLimit), cel.InterruptCheckFrequency(100))
	if err != nil {
		return nil, err
	}
	return prg, nil
}

// evalCEL runs a compiled rule on the input; an evaluation error (a
// conversion that fails, the cost limit) is returned so the verdict can
// say the rule could not be evaluated.
func evalCEL(prg celProgram, vars map[string]any) (bool, error) {
	out, _, err := prg.Eval(vars)
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("the expression returned %v, not true or false", out.Value())
	}
	return b, nil
}

// celInput returns the CEL variables of the (filtered) report: the
// structures themselves, with nil lists made empty.
func celInput(doc *celDocument) map[string]any {
	os := doc.OS
	if os == nil {
		os = &inventory.OS{}
	}
	return map[string]any{
		"artifact":          &doc.Artifact,
		"os":                os,
		"packages":          orEmpty(doc.Packages),
		"vulnerabilities":   orEmpty(doc.Vulnerabilities),
		"secrets":           orEmpty(doc.Secrets),
		"malware":           orEmpty(doc.Malware),
		"misconfigurations": orEmpty(doc.Misconfigurations),
	}
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
