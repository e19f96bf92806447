Component({
  properties: {
    text: { type: String, value: '暂无数据' },
    hint: { type: String, value: '' },
  },
});
