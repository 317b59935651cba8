using System.Buffers;
using ServerlessImaging.Dicom.Networking.Dimse;

namespace ServerlessImaging.Dicom.Networking.Storage;

/// <summary>
/// Writes each received instance as a Part 10 file <c>{SOPInstanceUID}.dcm</c> in a directory: file meta, then the data set
/// bytes exactly as received, into a temporary file renamed on commit. An existing file with the same UID is replaced.
/// </summary>
public sealed class DirectoryInstanceSink : IInstanceSink
{
    private readonly string _directory;

    public DirectoryInstanceSink(string directory)
    {
        _directory = Path.GetFullPath(directory);
        Directory.CreateDirectory(_directory);
    }

    public string DirectoryPath => _directory;

    public async ValueTask<IInstanceWriter> OpenAsync(IncomingInstance instance, CancellationToken ct)
    {
        if (!Part10Header.IsValidUid(instance.SopInstanceUid))
            throw new InstanceRejectedException(DimseStatus.CannotUnderstand, "SOP Instance UID is not a valid UID.");
        var temp = Path.Combine(_directory, $".{Guid.NewGuid():N}.part");
        // Synchronous handle with a 256 KB buffer: Linux has no asynchronous file I/O, so an "async" write is a thread-pool
        // hop per segment (the profile showed the pool spinning); page-cache writes of 256 KB take microseconds.
        var stream = new FileStream(temp, new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None,
            Options = FileOptions.None, BufferSize = 256 * 1024,
        });
        try
        {
            stream.Write(Part10Header.Encode(new FileMetaInfo(instance.SopClassUid, instance.SopInstanceUid, instance.TransferSyntaxUid), instance.CallingAeTitle));
            return new Writer(instance, stream, temp, Path.Combine(_directory, instance.SopInstanceUid + ".dcm"));
        }
        catch
        {
            await stream.DisposeAsync();
            File.Delete(temp);
            throw;
        }
    }

    private sealed class Writer(IncomingInstance instance, FileStream stream, string tempPath, string finalPath) : IInstanceWriter
    {
        private long _bytes;
        private bool _committed;

        public ValueTask WriteAsync(ReadOnlySequence<byte> dataSetBytes, CancellationToken ct)
        {
            ct.ThrowIfCancellationRequested();
            foreach (var segment in dataSetBytes) stream.Write(segment.Span);
            _bytes += dataSetBytes.Length;
            return ValueTask.CompletedTask;
        }

        public async ValueTask<StoredInstance> CommitAsync(CancellationToken ct)
        {
            ct.ThrowIfCancellationRequested();
            stream.Flush();
            await stream.DisposeAsync();
            File.Move(tempPath, finalPath, overwrite: true);
            _committed = true;
            return new StoredInstance(instance, finalPath, _bytes);
        }

        public async ValueTask DisposeAsync()
        {
            await stream.DisposeAsync();
            if (!_committed) File.Delete(tempPath);
        }
    }
}
