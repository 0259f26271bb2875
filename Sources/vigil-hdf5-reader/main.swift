import VigilHDF5

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Parses an untrusted HDF5 file in its own process for HDF5Reader (see HDF5ReaderChild).
exit(HDF5ReaderChild.main(CommandLine.arguments))
