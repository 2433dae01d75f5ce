import APITypes
@testable import Backup
import Testing

/// `vm backup --export --listen`: an IP address, with or without a port, IPv6 in brackets when a port follows.
@Suite("Export listen address")
struct ExportListenAddressTests {
    @Test("addresses with and without ports; the default is loopback with a chosen port")
    func accepted() throws {
        #expect(try BackupService.listenAddress(nil) == ("127.0.0.1", nil))
        #expect(try BackupService.listenAddress("0.0.0.0") == ("0.0.0.0", nil))
        #expect(try BackupService.listenAddress("192.0.2.7:10900") == ("192.0.2.7", 10900))
        #expect(try BackupService.listenAddress("::1") == ("::1", nil))
        #expect(try BackupService.listenAddress("[::1]") == ("::1", nil))
        #expect(try BackupService.listenAddress("[::]:10809") == ("::", 10809))
    }

    @Test("names, bad ports and garbage are refused with the form to write", arguments: ["nowhere", "nowhere:99999", "1.2.3.4:0", "1.2.3:80", "[::1", ":80"])
    func refused(_ text: String) {
        #expect {
            _ = try BackupService.listenAddress(text)
        } throws: { error in
            ((error as? ViridianError)?.message ?? "").contains("is not an address")
        }
    }
}
