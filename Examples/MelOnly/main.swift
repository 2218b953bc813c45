import AudioDSP

print("AudioDSP \(AudioDSPLibrary.version)")
