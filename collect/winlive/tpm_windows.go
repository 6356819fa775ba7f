package winlive

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport/windowstpm"
	"golang.org/x/sys/windows"

	"github.com/scelle/scelle/collect"
)

var runTPM collectFunc = collectTPM

// tbsFuncs are the TBS functions go-tpm's Windows transport calls; a
// host without them (wine) has no TPM to ask, and go-tpm would panic
// calling a function that is not there.
var tbsFuncs = []string{"Tbsi_GetDeviceInfo", "Tbsi_Context_Create", "Tbsip_Context_Close", "Tbsip_Submit_Command"}

func collectTPM(ctx context.Context, s *collect.Session) error {
	info := TPMInfo{}
	tbs := windows.NewLazyDLL("Tbs.dll")
	for _, f := range tbsFuncs {
		if err := tbs.NewProc(f).Find(); err != nil {
			info.Error = fmt.Sprintf("no TPM Base Services: %v", err)
			putLines(ctx, s, "live/windows/system/tpm.jsonl", srcTPM, []TPMInfo{info}, nil)
			return ctx.Err()
		}
	}
	t, err := windowstpm.Open()
	if err != nil {
		info.Error = err.Error()
		putLines(ctx, s, "live/windows/system/tpm.jsonl", srcTPM, []TPMInfo{info}, nil)
		return ctx.Err()
	}
	defer t.Close()
	info.Present, info.Version = true, "2.0"
	resp, err := tpm2.GetCapability{Capability: tpm2.TPMCapTPMProperties, Property: uint32(tpm2.TPMPTFamilyIndicator), PropertyCount: 64}.Execute(t)
	if err == nil {
		var props *tpm2.TPMLTaggedTPMProperty
		if props, err = resp.CapabilityData.Data.TPMProperties(); err == nil {
			info.Properties = map[string]uint32{}
			var vendor [4]uint32
			var fw [2]uint32
			for _, p := range props.TPMProperty {
				info.Properties[fmt.Sprintf("%#x", uint32(p.Property))] = p.Value
				switch p.Property {
				case tpm2.TPMPTManufacturer:
					info.Manufacturer = fourCC(p.Value)
				case tpm2.TPMPTVendorString1, tpm2.TPMPTVendorString2, tpm2.TPMPTVendorString3, tpm2.TPMPTVendorString4:
					vendor[p.Property-tpm2.TPMPTVendorString1] = p.Value
				case tpm2.TPMPTFirmwareVersion1:
					fw[0] = p.Value
				case tpm2.TPMPTFirmwareVersion2:
					fw[1] = p.Value
				}
			}
			var sb strings.Builder
			for _, v := range vendor {
				sb.WriteString(fourCC(v))
			}
			info.VendorString = sb.String()
			info.Firmware = fmt.Sprintf("%d.%d.%d.%d", fw[0]>>16, fw[0]&0xffff, fw[1]>>16, fw[1]&0xffff)
		}
	}
	var perr error
	if err != nil {
		perr = errors.New("TPM properties: " + err.Error())
	}
	putLines(ctx, s, "live/windows/system/tpm.jsonl", srcTPM, []TPMInfo{info}, perr)
	return ctx.Err()
}
