package schemas

// zapierField is one of Zapier's output fields: what a Zap step offers for mapping.
type zapierField struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	Type  string `json:"type"`
	List  bool   `json:"list,omitempty"`
}

// zapierFields flattens a body schema into Zapier output fields the way Zapier flattens a
// body: nested keys joined with "__" ("data__post__id"), the fields of an array of objects
// with "[]" ("data__items[]name"), an array of primitives as one field with "list": true.
// An object with no declared properties gets no field; Zapier still shows what it holds.
func zapierFields(s *object) []zapierField {
	out := []zapierField{}
	var walk func(s *object, key string, path []string)
	walk = func(s *object, key string, path []string) {
		props := s.obj("properties")
		if props == nil {
			return
		}
		for _, k := range props.keys {
			ps, _ := props.vals[k].(*object)
			if ps == nil {
				ps = newObject() // a boolean schema: anything goes
			}
			p := append(path[:len(path):len(path)], k)
			fk := k
			if key != "" {
				fk = key + k
			}
			switch schemaType(ps) {
			case "object":
				walk(ps, fk+"__", p)
			case "array":
				items := ps.obj("items")
				if items == nil {
					items = newObject()
				}
				if schemaType(items) == "object" {
					walk(items, fk+"[]", p)
					continue
				}
				out = append(out, zapierField{Key: fk, Label: label(ps, labelPath(p)), Type: zapierType(items), List: true})
			default:
				out = append(out, zapierField{Key: fk, Label: label(ps, labelPath(p)), Type: zapierType(ps)})
			}
		}
	}
	walk(s, "", nil)
	return out
}

// labelPath drops the leading "data": users think of data.post.id as "Post ID".
func labelPath(p []string) []string {
	if len(p) > 1 && p[0] == "data" {
		return p[1:]
	}
	return p
}

// zapierType maps a JSON Schema type to Zapier's: string, integer, number, boolean, datetime.
func zapierType(s *object) string {
	switch t := schemaType(s); t {
	case "integer", "number", "boolean":
		return t
	case "string":
		if f := s.str("format"); f == "date-time" || f == "date" {
			return "datetime"
		}
	}
	return "string"
}
