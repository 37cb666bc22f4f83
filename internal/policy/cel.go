package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"cel.dev/cel-go/cel"
)

// CEL input: the variables a cel rule sees are the top-level fields of
// bulkhead's JSON report (internal/report/json.go), after exceptions and
// VEX removed what they suppress:
//
//	artifact           map: ref, type, name, repoTags, created, layers[], labels, user, ...
//	os                 map or null: id, versionID, codename, name
//	packages           list of maps: name, version, type, purl, licenses[], locations[]
//	vulnerabilities    list: id, aliases[], severity, cvss[{version, vector, score}],
//	                   fixedVersion, status, published, package{name, version, type, ecosystem, purl},
//	                   location{path, layerIndex, createdBy}
//	secrets            list: ruleID, title, severity, path, line, fingerprint, layerIndex
//	malware            list: signature, severity, path, layerIndex
//	misconfigurations  list: id, type, severity, title, message, path, line
//
// The lists are always present (empty when the scanner did not run), so an
// expression never fails on a missing field at the top. A rule's
// expression is true when the rule is violated:
//
//	vulnerabilities.exists(v, v.package.name == "openssl" && v.severity == "CRITICAL")
//	!("org.opencontainers.image.source" in artifact.labels)
var celVariables = []string{"artifact", "os", "packages", "vulnerabilities", "secrets", "malware", "misconfigurations"}

// Bounds on hostile expressions: the parser's size and nesting, and the
// evaluation cost (a cel expression cannot loop forever, but nested
// comprehensions over big lists can take long).
const (
	celMaxExprSize = 4096
	celCostLimit   = 50_000_000
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
		opts := []cel.EnvOption{
			cel.ParserExpressionSizeLimit(celMaxExprSize),
			cel.ParserRecursionLimit(64),
		}
		for _, v := range celVariables {
			opts = append(opts, cel.Variable(v, cel.DynType))
		}
		env, err := cel.NewEnv(opts...)
		if err != nil {
			celErr = fmt.Errorf("cel environment: %w", err)
			return
		}
		celShared = &celEnvironment{env: env}
	})
	return celShared, celErr
}

// compile type-checks expr and returns a program that must yield a bool.
func (e *celEnvironment) compile(expr string) (celProgram, error) {
	ast, iss := e.env.Compile(expr)
	if iss.Err() != nil {
		return nil, errors.New(iss.Err().Error())
	}
	if t := ast.OutputType(); t != cel.BoolType && t != cel.DynType {
		return nil, fmt.Errorf("the expression is a %s; it must be true or false (true: the rule is violated)", t)
	}
	prg, err := e.env.Program(ast, cel.CostLimit(celCostLimit), cel.InterruptCheckFrequency(100))
	if err != nil {
		return nil, err
	}
	return prg, nil
}

// evalCEL runs a compiled rule on the input; an evaluation error (a field
// missing deeper down, a type mismatch, the cost limit) is returned so the
// verdict can say the rule could not be evaluated.
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

// celInput turns the (filtered) report into CEL variables, through JSON so
// the names are exactly the report's.
func celInput(doc any) (map[string]any, error) {
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("cel input: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("cel input: %w", err)
	}
	for _, v := range celVariables {
		if x, ok := m[v]; !ok || (x == nil && v != "os") {
			switch v {
			case "os":
				m[v] = nil
			case "artifact":
				m[v] = map[string]any{}
			default:
				m[v] = []any{}
			}
		}
	}
	if a, ok := m["artifact"].(map[string]any); ok {
		if _, ok := a["labels"]; !ok {
			a["labels"] = map[string]any{}
		}
	}
	return m, nil
}
