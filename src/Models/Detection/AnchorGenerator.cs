namespace NativeSeg.Models.Detection;

/// <summary>
/// RPN anchors: per FPN level (p2..p6) one size (32..512) and three aspect ratios h/w (0.5, 1, 2), laid out
/// as index = (y·W + x)·3 + ratio, the order of the RPN head's permuted outputs. The flavours differ in the
/// cell anchors (exact, rounded, or Detectron's "+1" quantised ones) and, for torchvision, in the stride
/// (<see cref="Flavours.DetectionFlavour.CellAnchors"/>, <see cref="Flavours.DetectionFlavour.AnchorStride"/>).
/// </summary>
public static class AnchorGenerator
{
    public static readonly int[] Sizes = [32, 64, 128, 256, 512];

    public static readonly float[] AspectRatios = [0.5f, 1f, 2f];

    public const int PerCell = 3;

    /// <summary>A level's cell anchors [3 × (x1, y1, x2, y2)]: the box <paramref name="box"/> makes for each aspect ratio h/w.</summary>
    public static float[] Cell(Func<float, (float X1, float Y1, float X2, float Y2)> box)
    {
        var cell = new float[PerCell * 4];
        for (int a = 0; a < PerCell; a++) (cell[a * 4], cell[a * 4 + 1], cell[a * 4 + 2], cell[a * 4 + 3]) = box(AspectRatios[a]);
        return cell;
    }

    /// <summary>All anchors of one level, [H·W·3 × 4] flattened.</summary>
    public static float[] Grid(float[] cell, (int H, int W) stride, int mapH, int mapW)
    {
        var anchors = new float[mapH * mapW * PerCell * 4];
        int i = 0;
        for (int y = 0; y < mapH; y++)
        {
            float sy = y * stride.H;
            for (int x = 0; x < mapW; x++)
            {
                float sx = x * stride.W;
                for (int a = 0; a < PerCell; a++)
                {
                    anchors[i++] = sx + cell[a * 4];
                    anchors[i++] = sy + cell[a * 4 + 1];
                    anchors[i++] = sx + cell[a * 4 + 2];
                    anchors[i++] = sy + cell[a * 4 + 3];
                }
            }
        }
        return anchors;
    }
}
