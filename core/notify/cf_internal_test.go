package notify

import "testing"

// Codici fiscali published with their check letter are accepted; one
// changed character is caught.
func TestFiscalCodeCheckLetter(t *testing.T) {
	for _, fc := range []string{"RSSMRA85T10A562S", "MRTMTT25D09F205Z", "rssmra 85t10 a562s"} {
		if _, err := normalizeFiscalCode(fc); err != nil {
			t.Errorf("%s: %v", fc, err)
		}
	}
	for _, fc := range []string{"RSSMRA85T10A562T", "RSSMRA85T10A563S", "RSSMRA85T10A56", "RSSMRA85T1ØA562S"} {
		if _, err := normalizeFiscalCode(fc); err == nil {
			t.Errorf("%s accepted", fc)
		}
	}
	// A Swiss AHV number (13 digits) is no Italian code and is taken as it is.
	if fc, err := normalizeFiscalCode("756.1234.5678.97"); err != nil || fc != "7561234567897" {
		t.Errorf("AHV number: %q, %v", fc, err)
	}
}
