using ServerlessImaging.Dicom.Networking.Dimse;
using ServerlessImaging.Dicom.Networking.UpperLayer;

namespace ServerlessImaging.Dicom.Networking.Tests.UpperLayer;

public class DimseCommandTests
{
    [Fact]
    public void Command_round_trips_and_starts_with_its_group_length()
    {
        var command = new DimseCommand
        {
            Field = CommandField.CStoreRequest,
            MessageId = 7,
            AffectedSopClassUid = "1.2.840.10008.5.1.4.1.1.2",
            AffectedSopInstanceUid = "1.2.3",
            HasDataSet = true,
            MoveDestination = "SI_TEST",
        };
        var bytes = command.Encode();
        Assert.Equal((uint)bytes.Length - 12, BitConverter.ToUInt32(bytes, 8));
        Assert.Equal(0, bytes.Length % 2);
        var decoded = DimseCommand.Decode(bytes);
        Assert.Equal(CommandField.CStoreRequest, decoded.Field);
        Assert.Equal(7, decoded.MessageId);
        Assert.Equal("1.2.840.10008.5.1.4.1.1.2", decoded.AffectedSopClassUid);
        Assert.Equal("1.2.3", decoded.AffectedSopInstanceUid);
        Assert.Equal("SI_TEST", decoded.MoveDestination);
        Assert.True(decoded.HasDataSet);
    }

    [Fact]
    public void Element_outside_group_0000_is_rejected()
    {
        var bytes = new DimseCommand { Field = CommandField.CEchoRequest }.Encode();
        bytes[12] = 8; // first element after group length now claims group 0008
        Assert.Throws<DicomProtocolException>(() => DimseCommand.Decode(bytes));
    }

    [Fact]
    public void Element_length_overrunning_the_command_is_rejected()
    {
        var bytes = new DimseCommand { Field = CommandField.CEchoRequest }.Encode();
        BitConverter.GetBytes(1_000_000u).CopyTo(bytes, 16);
        Assert.Throws<DicomProtocolException>(() => DimseCommand.Decode(bytes));
    }

    [Theory]
    [InlineData(0x0000, false, true)]
    [InlineData(0xFF00, true, false)]
    [InlineData(0xB000, false, false)]
    [InlineData(0xA700, false, false)]
    public void Status_classes(int status, bool pending, bool success)
    {
        Assert.Equal(pending, DimseStatus.IsPending((ushort)status));
        Assert.Equal(success, DimseStatus.IsSuccess((ushort)status));
    }
}
