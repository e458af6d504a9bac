package doccheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Problem is one missing doc comment or doc.go.
type Problem struct {
	// Pos is "file:line" of the undocumented declaration, or the package folder.
	Pos string
	// What names the undocumented thing, e.g. "func Fire" or "package fsm: no doc.go".
	What string
}

// String formats the problem as "pos: what".
func (p Problem) String() string { return p.Pos + ": " + p.What }

// Tree checks every Go package below root, skipping testdata, hidden folders and .cache.
func Tree(root string) ([]Problem, error) {
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			dirs = append(dirs, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("doccheck: walking %s: %w", root, err)
	}
	var out []Problem
	for _, dir := range dirs {
		ps, err := Dir(dir)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	return out, nil
}

// Dir checks the non-test Go files of one folder. Generated files (a "// Code generated
// ... DO NOT EDIT." comment before the package clause) are skipped, and a folder of
// generated files only needs no doc.go.
func Dir(dir string) ([]Problem, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("doccheck: %w", err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	hasDoc := false
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("doccheck: %w", err)
		}
		if ast.IsGenerated(f) {
			continue // a generator's output is documented where it is generated from
		}
		files = append(files, f)
		if name == "doc.go" && f.Doc != nil {
			hasDoc = true
		}
	}
	if len(files) == 0 {
		return nil, nil
	}
	var out []Problem
	if !hasDoc {
		out = append(out, Problem{Pos: dir, What: fmt.Sprintf("package %s: no doc.go with a package comment", files[0].Name.Name)})
	}
	isMain := files[0].Name.Name == "main"
	for _, f := range files {
		for _, decl := range f.Decls {
			out = append(out, declProblems(fset, decl, isMain)...)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pos < out[j].Pos })
	return out, nil
}

func declProblems(fset *token.FileSet, decl ast.Decl, isMain bool) []Problem {
	var out []Problem
	report := func(pos token.Pos, what string) {
		out = append(out, Problem{Pos: fset.Position(pos).String(), What: what + " has no doc comment"})
	}
	switch d := decl.(type) {
	case *ast.FuncDecl:
		if isMain || !d.Name.IsExported() || d.Doc != nil {
			return nil
		}
		if d.Recv != nil && !exportedRecv(d.Recv) {
			return nil
		}
		report(d.Pos(), "func "+d.Name.Name)
	case *ast.GenDecl:
		if isMain {
			return nil
		}
		for _, spec := range d.Specs {
			switch s := spec.(type) {
			case *ast.TypeSpec:
				if s.Name.IsExported() && s.Doc == nil && d.Doc == nil {
					report(s.Pos(), "type "+s.Name.Name)
				}
			case *ast.ValueSpec:
				for _, n := range s.Names {
					// A const/var block with a doc comment documents its members.
					if n.IsExported() && s.Doc == nil && s.Comment == nil && d.Doc == nil {
						report(n.Pos(), "name "+n.Name)
					}
				}
			}
		}
	}
	return out
}

func exportedRecv(fl *ast.FieldList) bool {
	if len(fl.List) == 0 {
		return false
	}
	t := fl.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
		case *ast.IndexExpr:
			t = x.X
		case *ast.IndexListExpr:
			t = x.X
		case *ast.Ident:
			return x.IsExported()
		default:
			return false
		}
	}
}
