import APITypes
import Testing

@Suite("Sizes")
struct ByteSizeTests {
    @Test("parses binary units the way administrators write them", arguments: [
        ("512M", UInt64(512) << 20), ("1G", UInt64(1) << 30), ("64MiB", UInt64(64) << 20), ("2gb", UInt64(2) << 30),
        ("1048576", UInt64(1_048_576)), (" 4K ", UInt64(4096)), ("1T", UInt64(1) << 40),
    ])
    func parses(text: String, bytes: UInt64) throws {
        #expect(try ByteSize.parse(text) == bytes)
    }

    @Test("refuses what is not a size", arguments: ["", "M", "12Q", "-1G", "1.5G", "99999999999999999999T"])
    func refuses(text: String) {
        #expect(throws: ViridianError.self) { try ByteSize.parse(text) }
    }

    @Test("a bare number of memory means MiB; a part-MiB size is refused")
    func mebibytes() throws {
        #expect(try ByteSize.parseMiB("512") == 512)
        #expect(try ByteSize.parseMiB("2G") == 2048)
        #expect(throws: ViridianError.self) { try ByteSize.parseMiB("1000K") }
    }

    @Test("formats with the largest unit")
    func formats() {
        #expect(ByteSize.format(512) == "512 B")
        #expect(ByteSize.format(1536 << 20) == "1.5 GiB")
        #expect(ByteSize.format(64 << 20) == "64 MiB")
    }
}
