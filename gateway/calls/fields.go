package calls

import "strings"

// direction turns a provider's "inbound"/"outbound" into Salesforce's
// CallType values.
func direction(s string) string {
	switch strings.ToLower(s) {
	case "inbound", "incoming":
		return "Inbound"
	case "outbound", "outgoing":
		return "Outbound"
	case "internal":
		return "Internal"
	}
	return s
}
