package schemas

// makeField is one field of a Make data structure specification.
type makeField struct {
	Name     string `json:"name,omitempty"`
	Type     string `json:"type"`
	Label    string `json:"label,omitempty"`
	Required bool   `json:"required,omitempty"`
	// Spec is a collection's fields, or an array's items: a field without name for an array
	// of primitives, the item's fields for an array of objects (Make's "complex array").
	Spec any `json:"spec,omitempty"`
}

// makeSpec turns an object schema into Make's data structure specification: a list of
// fields typed text, number, boolean, date, collection or array.
func makeSpec(s *object) []makeField {
	out := []makeField{}
	props := s.obj("properties")
	if props == nil {
		return out
	}
	req := required(s)
	for _, k := range props.keys {
		ps, _ := props.vals[k].(*object)
		if ps == nil {
			ps = newObject()
		}
		f := makeItem(ps)
		f.Name, f.Label, f.Required = k, label(ps, []string{k}), req[k]
		out = append(out, f)
	}
	return out
}

// makeItem maps one schema to a Make field without its name.
func makeItem(s *object) makeField {
	switch schemaType(s) {
	case "object":
		return makeField{Type: "collection", Spec: makeSpec(s)}
	case "array":
		items := s.obj("items")
		if items == nil {
			items = newObject()
		}
		if schemaType(items) == "object" {
			return makeField{Type: "array", Spec: makeSpec(items)}
		}
		item := makeItem(items)
		return makeField{Type: "array", Spec: item}
	case "integer", "number":
		return makeField{Type: "number"}
	case "boolean":
		return makeField{Type: "boolean"}
	}
	if f := s.str("format"); f == "date-time" || f == "date" {
		return makeField{Type: "date"}
	}
	return makeField{Type: "text"}
}
