import APITypes
import Foundation
import Testing

@Suite("One rule for names and free text")
struct NameRuleTests {
    @Test("VM and switch names: ASCII letters, digits, . _ -; switches also single inner spaces")
    func names() throws {
        for good in ["web1", "a", "db-2.prod_x", String(repeating: "a", count: 64)] {
            try VMName.validate(good)
            try SwitchName.validate(good)
        }
        try SwitchName.validate("Default Switch")
        try SwitchName.validate("Lab Switch 2")
        #expect(throws: ViridianError.self) { try VMName.validate("Default Switch") }
        for bad in ["", " lead", "trail ", "two  spaces", "Ünï", "evil\u{202E}txt", "tab\there", "a/b", "-dash", ".dot",
                    "nul\u{0}", String(repeating: "a", count: 65)] {
            #expect(throws: ViridianError.self, "'\(bad)'") { try SwitchName.validate(bad) }
            #expect(throws: ViridianError.self, "'\(bad)'") { try VMName.validate(bad) }
        }
    }

    @Test("errors quote a short prefix of the input, never all of it")
    func quoting() {
        let long = String(repeating: "x", count: 100_000)
        do {
            try VMName.validate(long)
            Issue.record("a 100,000-character name was accepted")
        } catch let error as ViridianError {
            #expect(error.message.count < 200, "\(error.message.count) characters")
        } catch {
            Issue.record("\(error)")
        }
        #expect(Quote.prefix("a\u{1}b") == "a?b")
        #expect(Quote.prefix(String(repeating: "y", count: 50), limit: 10) == String(repeating: "y", count: 10) + "…")
    }

    @Test("free text: up to 4096 characters, tabs and line breaks, no other control characters or bidi overrides")
    func freeText() throws {
        try FreeText.validate("line one\nline two\r\n\ttabbed – ünïcode fine", what: "notes")
        try FreeText.validate(String(repeating: "n", count: HyperVLimits.notesMaxLength), what: "notes")
        for bad in ["nul\u{0}", "bell\u{7}", "del\u{7f}", "c1\u{85}", "rtl\u{202E}", "isolate\u{2066}",
                    String(repeating: "n", count: HyperVLimits.notesMaxLength + 1)] {
            #expect(throws: ViridianError.self) { try FreeText.validate(bad, what: "notes") }
        }
    }

    @Test("optional fields of the API document decode when absent: KVP changes, an access VLAN")
    func optionalFields() throws {
        let kvp = try WireJSON.decoder().decode(KVPChangeRequest.self, from: Data(#"{"set":{"a":"1"}}"#.utf8))
        #expect(kvp.set == ["a": "1"] && kvp.remove.isEmpty)
        let removal = try WireJSON.decoder().decode(KVPChangeRequest.self, from: Data(#"{"remove":["a"]}"#.utf8))
        #expect(removal.set.isEmpty && removal.remove == ["a"])
        let access = try WireJSON.decoder().decode(VLANSetting.self, from: Data(#"{"mode":"Access","accessID":10}"#.utf8))
        #expect(access.accessID == 10 && access.allowedIDs.isEmpty)
        try access.validate()
    }
}
