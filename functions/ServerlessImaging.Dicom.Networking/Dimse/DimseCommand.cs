using System.Buffers.Binary;
using System.Text;
using ServerlessImaging.Dicom.Networking.UpperLayer;

namespace ServerlessImaging.Dicom.Networking.Dimse;

/// <summary>
/// A DIMSE command set: group 0000 elements, always Implicit VR Little Endian (PS3.7 6.3.1).
/// Kept separate from the core dataset type on purpose: commands are a closed set of ~20 short elements
/// exchanged per instance on the hot path, so a small sorted table encodes and decodes without the general machinery.
/// </summary>
public sealed class DimseCommand
{
    public const ushort NoDataSet = 0x0101;

    // element number -> raw value bytes (little endian, padded to even length)
    private readonly SortedDictionary<ushort, byte[]> _elements = [];

    public static class Tags
    {
        public const ushort AffectedSopClassUid = 0x0002;
        public const ushort RequestedSopClassUid = 0x0003;
        public const ushort CommandField = 0x0100;
        public const ushort MessageId = 0x0110;
        public const ushort MessageIdBeingRespondedTo = 0x0120;
        public const ushort MoveDestination = 0x0600;
        public const ushort Priority = 0x0700;
        public const ushort CommandDataSetType = 0x0800;
        public const ushort Status = 0x0900;
        public const ushort OffendingElement = 0x0901;
        public const ushort ErrorComment = 0x0902;
        public const ushort ErrorId = 0x0903;
        public const ushort AffectedSopInstanceUid = 0x1000;
        public const ushort RequestedSopInstanceUid = 0x1001;
        public const ushort RemainingSubOperations = 0x1020;
        public const ushort CompletedSubOperations = 0x1021;
        public const ushort FailedSubOperations = 0x1022;
        public const ushort WarningSubOperations = 0x1023;
        public const ushort MoveOriginatorAeTitle = 0x1030;
        public const ushort MoveOriginatorMessageId = 0x1031;
    }

    public CommandField Field
    {
        get => (CommandField)(GetUShort(Tags.CommandField) ?? 0);
        set => SetUShort(Tags.CommandField, (ushort)value);
    }

    public ushort MessageId { get => GetUShort(Tags.MessageId) ?? 0; set => SetUShort(Tags.MessageId, value); }
    public ushort MessageIdBeingRespondedTo { get => GetUShort(Tags.MessageIdBeingRespondedTo) ?? 0; set => SetUShort(Tags.MessageIdBeingRespondedTo, value); }
    public bool HasDataSet
    {
        get => (GetUShort(Tags.CommandDataSetType) ?? NoDataSet) != NoDataSet;
        set => SetUShort(Tags.CommandDataSetType, value ? (ushort)0x0000 : NoDataSet);
    }
    public ushort Status { get => GetUShort(Tags.Status) ?? 0; set => SetUShort(Tags.Status, value); }
    public string? AffectedSopClassUid { get => GetString(Tags.AffectedSopClassUid); set => SetString(Tags.AffectedSopClassUid, value, padWithNull: true); }
    public string? AffectedSopInstanceUid { get => GetString(Tags.AffectedSopInstanceUid); set => SetString(Tags.AffectedSopInstanceUid, value, padWithNull: true); }
    public string? ErrorComment { get => GetString(Tags.ErrorComment); set => SetString(Tags.ErrorComment, value, padWithNull: false); }
    public string? MoveDestination { get => GetString(Tags.MoveDestination); set => SetString(Tags.MoveDestination, value, padWithNull: false); }

    public bool Contains(ushort element) => _elements.ContainsKey(element);

    public ushort? GetUShort(ushort element) =>
        _elements.TryGetValue(element, out var v) && v.Length >= 2 ? BinaryPrimitives.ReadUInt16LittleEndian(v) : null;

    public void SetUShort(ushort element, ushort value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, value);
        _elements[element] = bytes;
    }

    public string? GetString(ushort element) =>
        _elements.TryGetValue(element, out var v) ? Encoding.ASCII.GetString(v).TrimEnd(' ', '\0') : null;

    public void SetString(ushort element, string? value, bool padWithNull)
    {
        if (value is null) { _elements.Remove(element); return; }
        var length = value.Length + (value.Length & 1);
        var bytes = new byte[length];
        Encoding.ASCII.GetBytes(value, bytes);
        if (length != value.Length) bytes[^1] = padWithNull ? (byte)0 : (byte)' ';
        _elements[element] = bytes;
    }

    /// <summary>Encoded size including (0000,0000) CommandGroupLength.</summary>
    public int EncodedLength => 12 + GroupLength;

    private int GroupLength => _elements.Where(e => e.Key != 0).Sum(e => 8 + e.Value.Length);

    public void Encode(Span<byte> destination)
    {
        var groupLength = GroupLength;
        // (0000,0000) UL
        BinaryPrimitives.WriteUInt32LittleEndian(destination, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], 4);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], (uint)groupLength);
        var offset = 12;
        foreach (var (element, value) in _elements)
        {
            if (element == 0) continue;
            BinaryPrimitives.WriteUInt16LittleEndian(destination[offset..], 0);
            BinaryPrimitives.WriteUInt16LittleEndian(destination[(offset + 2)..], element);
            BinaryPrimitives.WriteUInt32LittleEndian(destination[(offset + 4)..], (uint)value.Length);
            value.CopyTo(destination[(offset + 8)..]);
            offset += 8 + value.Length;
        }
    }

    public byte[] Encode()
    {
        var bytes = new byte[EncodedLength];
        Encode(bytes);
        return bytes;
    }

    /// <summary>Decodes an Implicit VR LE command set; rejects anything outside group 0000 or overrunning its buffer.</summary>
    public static DimseCommand Decode(ReadOnlySpan<byte> data)
    {
        var command = new DimseCommand();
        while (!data.IsEmpty)
        {
            if (data.Length < 8) throw Malformed("truncated element header");
            var group = BinaryPrimitives.ReadUInt16LittleEndian(data);
            var element = BinaryPrimitives.ReadUInt16LittleEndian(data[2..]);
            var length = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            if (group != 0) throw Malformed($"element ({group:X4},{element:X4}) outside group 0000");
            if (length > data.Length - 8) throw Malformed($"element (0000,{element:X4}) length {length} overruns the command");
            if (element != 0) command._elements[element] = data.Slice(8, (int)length).ToArray();
            data = data[(8 + (int)length)..];
        }
        if (!command.Contains(Tags.CommandField)) throw Malformed("no CommandField");
        return command;
    }

    private static DicomProtocolException Malformed(string detail) =>
        new(AbortReason.InvalidPduParameterValue, "Malformed DIMSE command set: " + detail + ".");

    public override string ToString() => $"{Field} id={MessageId} status=0x{Status:X4}";
}
