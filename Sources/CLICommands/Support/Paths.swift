import Foundation

/// A path as the daemon needs it: absolute, resolved against the CLI's working directory.
func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
}
